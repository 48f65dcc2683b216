import sys

from geneint.cli import main

sys.exit(main())
