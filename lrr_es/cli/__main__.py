"""``python -m lrr_es.cli``: the ``lrr-es`` command."""
from . import main

main()
