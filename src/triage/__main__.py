"""`python -m triage …`"""

import gc
import sys

# Start-up makes ~100,000 objects that live as long as the process (modules, classes,
# botocore's models); collecting while they are made finds next to nothing and cost 5-10% of
# the import time. `triage run` freezes them and turns collection back on before serving
# (triage.app); every other command turns it back on at once (triage.cli).
gc.disable()

from triage.cli import main  # noqa: E402 - after the collector is off

sys.exit(main())
