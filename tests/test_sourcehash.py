"""The shared code reader behind run keys and figure fingerprints."""

from initreport import sourcehash


def _outer():
    def inner():
        return helper_name(len)          # noqa: F821  (never called: only compiled)
    return inner


class _Cls:
    def method(self):
        return 1

    @property
    def prop(self):
        return 2

    @staticmethod
    def static():
        return 3


def test_code_names_include_nested_code():
    assert "helper_name" in sourcehash.code_names(_outer.__code__)
    assert "helper_name" not in sourcehash.code_names(_Cls.method.__code__)


def test_module_attributes_are_read_only_for_named_modules():
    def f():
        import math
        return np.linalg.norm, os.path.join, math.pi      # noqa: F821

    pairs = sourcehash.module_attributes(f.__code__, {"np"})
    assert ("np", "linalg") in pairs
    assert not any(mod == "os" for mod, _ in pairs)


def test_functions_of_a_class_include_properties_and_static_methods():
    names = {f.__name__ for f in sourcehash.functions_of(_Cls)}
    assert names == {"method", "prop", "static"}
