"""mindoff-dataport: move tabular records between Python objects and files."""

from importlib.metadata import PackageNotFoundError, version

from mindoff_dataport.records import Table, to_csv

try:
    __version__ = version("mindoff-dataport")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Table", "to_csv", "__version__"]
