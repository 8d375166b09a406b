"""Download, verify, extract and prepare the real datasets: ``python data_scripts/get_data.py NAME``.

Modules, one step each: ``sources`` (what to fetch), ``download`` (resumable HTTP),
``checksums`` (md5/sha256, recorded ones too), ``extract`` (safe tar/zip),
``prepare`` (arrange into the loader's layout), ``get_data`` (the command).
"""


class DataScriptError(Exception):
    """An expected failure (offline, bad checksum, unsafe archive...): the command prints
    its message as one ``error: ...`` line, without a traceback."""
