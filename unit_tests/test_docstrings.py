"""Every public class, function, method and property in spikey has a docstring.

A method that overrides a documented base-class method counts as documented
(``inspect.getdoc`` reads the inherited docstring), as numpydoc tools do.
"""

import importlib
import inspect
import pkgutil

import spikey


def _undocumented():
    missing = []
    for info in pkgutil.walk_packages(spikey.__path__, "spikey."):
        module = importlib.import_module(info.name)
        if not inspect.getdoc(module):
            missing.append(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
                missing.append(f"{module.__name__}.{name}")
            if not inspect.isclass(obj):
                continue
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, property):
                    doc = inspect.getdoc(value.fget)
                elif inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod)):
                    doc = inspect.getdoc(getattr(obj, attr))
                else:
                    continue
                if not doc:
                    missing.append(f"{module.__name__}.{name}.{attr}")
    return missing


def test_every_public_callable_has_a_docstring():
    missing = _undocumented()
    assert not missing, f"{len(missing)} public callables lack a docstring: {missing}"
