import sys

from rerankd.cli import main

sys.exit(main())
