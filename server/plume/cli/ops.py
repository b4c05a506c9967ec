"""Commands for this group land with their issue."""


def register(subparsers) -> None:
    pass
