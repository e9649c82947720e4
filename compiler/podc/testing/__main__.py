import sys

from podc.testing.cli import main

sys.exit(main(sys.argv[1:]))
