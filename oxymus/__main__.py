import sys

from oxymus.cli import main

sys.exit(main())
