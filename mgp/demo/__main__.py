import sys

from mgp.demo import main

sys.exit(main())
