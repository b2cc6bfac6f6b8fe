import sys

from holdbeat.cli import main

sys.exit(main())
