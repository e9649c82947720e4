"""A Dagster Pipes asset whose external process runs as a podc-compiled Kubernetes Job.

``scores`` asks the ``pipes_podc`` resource (a :class:`podc.dagster.PipesPodcClient`) to run
``python -m podc_example.external_score`` from the project's ``pipes`` target. The external
process reports the materialization's metadata and the ``total_is_positive`` asset check.
"""

from dagster import AssetCheckSpec, AssetExecutionContext, Config, asset

from podc.dagster import PipesPodcClient


class ScoresConfig(Config):
    numbers: list[int] = [1, 2, 3, 4]


@asset(check_specs=[AssetCheckSpec("total_is_positive", asset="scores")])
def scores(context: AssetExecutionContext, config: ScoresConfig, pipes_podc: PipesPodcClient):
    return pipes_podc.run(
        context=context,
        target="pipes",
        command=["python", "-m", "podc_example.external_score"],
        extras={"numbers": config.numbers},
    ).get_results()
