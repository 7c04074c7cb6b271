import sys

from giliran.cli import main

sys.exit(main())
