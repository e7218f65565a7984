"""``python -m eventstudy`` runs the command line."""

from .cli import main

main()
