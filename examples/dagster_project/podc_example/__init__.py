"""podc + Dagster example project (see docs/dagster.md)."""
