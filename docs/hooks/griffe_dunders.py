"""A griffe extension for the API reference: a class's special methods are left out, except those that say how
an object is used (called, measured, indexed, iterated). `__init__` is merged into the class's own entry."""

from __future__ import annotations

import ast
from typing import Any

import griffe

SHOWN = frozenset({"__call__", "__len__", "__getitem__", "__iter__", "__contains__"})


class HideDunders(griffe.Extension):
    def on_class_members(
        self, *, node: ast.AST | griffe.ObjectNode, cls: griffe.Class, agent: Any, **kwargs: Any
    ) -> None:
        hidden = [name for name in cls.members if name.startswith("__") and name.endswith("__") and name not in SHOWN]
        for name in hidden:
            if name != "__init__":
                cls.del_member(name)
