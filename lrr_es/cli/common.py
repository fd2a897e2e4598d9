"""Option parsing shared by the ``lrr-es`` commands."""
from __future__ import annotations

import click


def pair(text: str, option: str = "--map") -> tuple[str, str]:
    """``SRC=DST`` (or ``NAME=VALUE``) as a pair; BadParameter naming ``option`` otherwise."""
    src, sep, dst = text.partition("=")
    if not sep or not src or not dst:
        raise click.BadParameter(f"{text!r} is not {'SRC=DST' if option == '--map' else 'NAME=VALUE'}", param_hint=option)
    return src, dst
