"""Read chosen groups of a ``results.nc``.

Opening a group costs about 2 ms per variable (h5netcdf reads each variable's metadata), and a file
holds up to a hundred (``point_estimates`` alone has one per table column), so each reader opens
only the groups it uses: reading back a cached comparison skips ``point_estimates``, a report's
page reads the draws and the EM traces only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import xarray as xr

__all__ = ["read_groups"]


def read_groups(path: str | Path, keep: Callable[[str], bool]) -> xr.DataTree:
    """The groups of the netCDF file ``path`` that ``keep`` accepts, loaded into memory.

    Parameters
    ----------
    path : str or path
        A netCDF-4 file (``results.nc``).
    keep : callable
        Called with each group's path inside the file (``"posterior"``, ``"draws_laplace/posterior"``;
        a parent before its children); a group it refuses is not opened, its children still are.

    Returns
    -------
    xarray.DataTree
        The accepted groups at their paths (an empty root: ``results.nc`` keeps nothing there).

    Raises
    ------
    OSError, ValueError
        A file that is missing or no netCDF-4/HDF5 file.
    """
    names: list[str] = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Group) and keep(name) else None)
    return xr.DataTree.from_dict({f"/{n}": xr.load_dataset(path, group=n, engine="h5netcdf") for n in names})
