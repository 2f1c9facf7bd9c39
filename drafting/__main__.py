"""`python -m drafting` is the same command as `facet-claims`."""
from drafting.cli import main

main()
