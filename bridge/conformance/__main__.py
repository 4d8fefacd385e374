import sys

from bridge.conformance.cli import main

sys.exit(main())
