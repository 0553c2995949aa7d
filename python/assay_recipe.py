"""Read the inputs and write the outputs of an Assay python recipe.

Assay runs a python recipe's script with this module importable:

    import assay_recipe

    visits = assay_recipe.input_rows("visits")         # list of dicts, one per row
    df = assay_recipe.input_dataframe("visits")        # pandas DataFrame (needs pandas)
    assay_recipe.write_output("scored", rows_or_df)    # every declared output, once

Values map to Python as: int64 -> int, float64 -> float, bool -> bool, string -> str,
date -> datetime.date, timestamp -> datetime.datetime in UTC (tz-aware), null -> None.
The reference, with the DataFrame dtypes and the type rules of write_output, is
docs/recipes/sql-python.md in the Assay repository.

Standard library only; pandas is imported only by input_dataframe and when write_output is
given a DataFrame. The files this module reads and writes (CSV plus a JSON schema per table,
listed in the manifest named by $ASSAY_RECIPE_MANIFEST) are private to Assay and may change:
use the functions below. This copy is written by Assay into the run's temporary directory;
editing it has no effect on later runs.
"""

import csv
import datetime
import json
import math
import os
import sys

__all__ = [
    "input_names",
    "output_names",
    "input_schema",
    "input_rows",
    "input_columns",
    "input_dataframe",
    "write_output",
]

TYPES = ("bool", "int64", "float64", "string", "date", "timestamp")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_UTC = datetime.timezone.utc
_manifest_cache = None


def _manifest():
    global _manifest_cache
    if _manifest_cache is None:
        path = os.environ.get("ASSAY_RECIPE_MANIFEST")
        if not path:
            raise RuntimeError(
                "assay_recipe: $ASSAY_RECIPE_MANIFEST is not set; this module works only "
                "inside an Assay python recipe run"
            )
        with open(path, encoding="utf-8") as f:
            _manifest_cache = json.load(f)
    return _manifest_cache


def input_names():
    """The names of the recipe's inputs, in the recipe's order."""
    return [entry["name"] for entry in _manifest()["inputs"]]


def output_names():
    """The names of the outputs the recipe declares; write_output must be called for each."""
    return [entry["name"] for entry in _manifest()["outputs"]]


def _entry(kind, name):
    for entry in _manifest()[kind]:
        if entry["name"] == name:
            return entry
    names = input_names() if kind == "inputs" else output_names()
    noun = "input" if kind == "inputs" else "declared output"
    raise KeyError(
        "assay_recipe: no %s named %r (%ss: %s)" % (noun, name, noun, ", ".join(names) or "none")
    )


def _load_schema(entry):
    with open(entry["schema"], encoding="utf-8") as f:
        return json.load(f)


def input_schema(name):
    """[(column, type), ...] of input `name`; types are bool, int64, float64, string, date,
    timestamp."""
    return [(c["name"], c["type"]) for c in _load_schema(_entry("inputs", name))["columns"]]


def _parse_timestamp(text):
    # Assay writes "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"; fromisoformat before 3.11 rejects "Z".
    return datetime.datetime.fromisoformat(text[:-1] + "+00:00")


_PARSERS = {
    "int64": int,
    "float64": float,  # also "nan", "-nan", "inf", "-inf"
    "bool": lambda text: text == "true",
    "date": datetime.date.fromisoformat,
    "timestamp": _parse_timestamp,
}


def input_columns(name):
    """{column: [values...]} of input `name`, columns in order; nulls are None."""
    entry = _entry("inputs", name)
    schema = _load_schema(entry)
    columns = schema["columns"]
    num_rows = schema["num_rows"]
    if not columns:
        return {}
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(entry["csv"], encoding="utf-8", newline="") as f:
        reader = csv.reader(f, strict=True)
        next(reader)  # the header; names come from the schema, which keeps them exact
        records = list(reader)
    if len(records) != num_rows:
        raise RuntimeError(
            "assay_recipe: input %r has %d rows on disk, expected %d" % (name, len(records), num_rows)
        )
    raw = list(zip(*records)) if records else [()] * len(columns)
    result = {}
    for column, values in zip(columns, raw):
        kind = column["type"]
        if kind == "string":
            # The CSV cannot tell a null from an empty string once parsed by the csv module,
            # so Assay lists the null rows of string columns in the schema.
            converted = list(values)
            for row in column.get("null_rows", ()):
                converted[row] = None
        else:
            # A null of any other type is an empty field (NA in a one-column table).
            parse = _PARSERS[kind]
            converted = [None if (v == "" or v == "NA") else parse(v) for v in values]
        result[column["name"]] = converted
    return result


def input_rows(name):
    """The rows of input `name` as a list of dicts {column: value}; nulls are None."""
    columns = input_columns(name)
    names = list(columns)
    if not names:
        return [{} for _ in range(_load_schema(_entry("inputs", name))["num_rows"])]
    return [dict(zip(names, row)) for row in zip(*columns.values())]


def input_dataframe(name):
    """Input `name` as a pandas DataFrame. Dtypes: int64 (Int64 when the column has nulls),
    float64 (nulls are NaN), bool (boolean when it has nulls), string and date as object
    (str / datetime.date, nulls None), timestamp as datetime64[ns, UTC] (nulls NaT)."""
    import pandas as pd

    schema = dict(input_schema(name))
    columns = input_columns(name)
    data = {}
    for column, values in columns.items():
        kind = schema[column]
        has_null = any(v is None for v in values)
        if kind == "int64":
            series = pd.Series(values, dtype="Int64" if has_null else "int64")
        elif kind == "bool":
            series = pd.Series(values, dtype="boolean" if has_null else "bool")
        elif kind == "float64":
            series = pd.Series([math.nan if v is None else v for v in values], dtype="float64")
        elif kind == "timestamp":
            series = pd.Series(pd.to_datetime(values, utc=True))
            if len(values) == 0:
                series = pd.Series([], dtype="datetime64[ns, UTC]")
        else:
            series = pd.Series(values, dtype="object")
        data[column] = series
    if not data:
        return pd.DataFrame()
    return pd.DataFrame(data)


# --- writing -------------------------------------------------------------------------------


def _is_dataframe(data):
    return type(data).__name__ == "DataFrame" and hasattr(data, "columns") and hasattr(data, "dtypes")


def _plain(value, nan_is_null):
    """Turns numpy/pandas scalars into Python values and missing markers into None."""
    if value is None:
        return None
    name = type(value).__name__
    if name in ("NAType", "NaTType"):
        return None
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if nan_is_null and isinstance(value, float) and math.isnan(value):
        return None
    return value


def _kind_of(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime.datetime):
        return "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    return None


def _merge(a, b):
    if a == b:
        return a
    if {a, b} == {"int64", "float64"}:
        return "float64"
    if {a, b} == {"date", "timestamp"}:
        return "timestamp"
    return None


def _infer(output, column, values):
    kind = None
    for row, value in enumerate(values):
        if value is None:
            continue
        value_kind = _kind_of(value)
        if value_kind is None:
            raise TypeError(
                "assay_recipe: output %r column %r row %d: cannot store a %s; convert it to "
                "bool, int, float, str, datetime.date or datetime.datetime"
                % (output, column, row + 1, type(value).__name__)
            )
        merged = value_kind if kind is None else _merge(kind, value_kind)
        if merged is None:
            raise TypeError(
                "assay_recipe: output %r column %r mixes %s and %s values (row %d); convert "
                "them to one type or pass types={%r: ...} to write_output"
                % (output, column, kind, value_kind, row + 1, column)
            )
        kind = merged
    return kind or "string"  # all null: nothing to infer from


def _quote(text):
    return '"' + text.replace('"', '""') + '"'


def _utc(value):
    if value.tzinfo is None:
        return value  # naive datetimes are taken as UTC
    return value.astimezone(_UTC).replace(tzinfo=None)


def _format_timestamp(value):
    v = _utc(value)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)


def _formatter(output, column, kind):
    def fail(value, row):
        raise TypeError(
            "assay_recipe: output %r column %r row %d: %r is not a valid %s"
            % (output, column, row + 1, value, kind)
        )

    if kind == "string":
        return lambda value, row: _quote(value if isinstance(value, str) else str(value))
    if kind == "bool":
        def format_bool(value, row):
            if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
                return "true" if value else "false"
            fail(value, row)
        return format_bool
    if kind == "int64":
        def format_int(value, row):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX:
                return str(int(value))
            fail(value, row)
        return format_int
    if kind == "float64":
        def format_float(value, row):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                try:
                    return repr(float(value))
                except OverflowError:
                    pass
            fail(value, row)
        return format_float
    if kind == "date":
        def format_date(value, row):
            if isinstance(value, datetime.datetime):
                value = _utc(value).date()
            elif isinstance(value, str):
                try:
                    value = datetime.date.fromisoformat(value)
                except ValueError:
                    fail(value, row)
            if isinstance(value, datetime.date):
                return "%04d-%02d-%02d" % (value.year, value.month, value.day)
            fail(value, row)
        return format_date
    if kind == "timestamp":
        def format_timestamp(value, row):
            if isinstance(value, str):
                try:
                    text = value[:-1] + "+00:00" if value.endswith("Z") else value
                    value = datetime.datetime.fromisoformat(text)
                except ValueError:
                    fail(value, row)
            if isinstance(value, datetime.datetime):
                return _format_timestamp(value)
            if isinstance(value, datetime.date):
                return "%04d-%02d-%02dT00:00:00.000000Z" % (value.year, value.month, value.day)
            fail(value, row)
        return format_timestamp
    raise ValueError(
        "assay_recipe: output %r column %r: unknown type %r (types: %s)"
        % (output, column, kind, ", ".join(TYPES))
    )


def _columns_from_rows(output, rows):
    names = []
    seen = set()
    rows = list(rows)
    for row_number, row in enumerate(rows):
        if not hasattr(row, "keys"):
            raise TypeError(
                "assay_recipe: output %r row %d is a %s; write_output takes a list of dicts or "
                "a pandas DataFrame" % (output, row_number + 1, type(row).__name__)
            )
        for key in row.keys():
            if key not in seen:
                seen.add(key)
                names.append(key)
    columns = [[_plain(row.get(name), False) for row in rows] for name in names]
    return names, columns, len(rows)


def _dataframe_dtype_kind(series):
    import pandas as pd

    types = pd.api.types
    if types.is_bool_dtype(series.dtype):
        return "bool"
    if types.is_integer_dtype(series.dtype):
        return "int64"
    if types.is_float_dtype(series.dtype):
        return "float64"
    if types.is_datetime64_any_dtype(series.dtype):
        return "timestamp"
    return None  # object, string, category...: decided by the values


def _columns_from_dataframe(output, frame):
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError("assay_recipe: output %r has duplicate column names" % (output,))
    columns = []
    kinds = {}
    for position, name in enumerate(names):
        series = frame.iloc[:, position]
        kind = _dataframe_dtype_kind(series)
        if kind is not None:
            kinds[name] = kind
        # pandas marks missing values with NaN/NaT/NA: they become nulls.
        columns.append([_plain(value, True) for value in series.tolist()])
    return names, columns, len(frame.index), kinds


def write_output(name, data, types=None):
    """Writes declared output `name` from a list of dicts (columns in order of first
    appearance; a missing key is null) or a pandas DataFrame (its index is not written; use
    reset_index() to keep it). `types` ({column: type}) fixes column types (and, for an
    empty list of rows, declares the columns); other columns are
    typed from their values (int -> int64, float -> float64, ints and floats -> float64,
    bool -> bool, str -> string, datetime.date -> date, datetime.datetime -> timestamp, naive
    taken as UTC; all None -> string). Writing an output twice keeps the last."""
    entry = _entry("outputs", name)
    if os.path.exists(entry["schema"]):
        os.remove(entry["schema"])  # rewriting: incomplete until the new schema is written
    dtype_kinds = {}
    if _is_dataframe(data):
        names, columns, num_rows, dtype_kinds = _columns_from_dataframe(name, data)
    else:
        if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
            raise TypeError(
                "assay_recipe: write_output(%r, ...) takes a list of dicts or a pandas "
                "DataFrame, not a %s" % (name, type(data).__name__)
            )
        names, columns, num_rows = _columns_from_rows(name, data)
    types = dict(types or {})
    if not names and num_rows == 0:
        # No rows to take columns from: `types` declares them (an empty, typed output).
        names = list(types)
        columns = [[] for _ in names]
    for column in types:
        if column not in names:
            raise KeyError(
                "assay_recipe: output %r: types names column %r, which the data does not have "
                "(columns: %s)" % (name, column, ", ".join(map(str, names)) or "none")
            )
    names = [str(n) for n in names]
    kinds = []
    texts = []
    for column, values in zip(names, columns):
        kind = types.get(column) or dtype_kinds.get(column) or _infer(name, column, values)
        format_value = _formatter(name, column, kind)
        kinds.append(kind)
        # Nulls are an unquoted NA; every string is quoted, so a string "NA" stays a string.
        texts.append(["NA" if v is None else format_value(v, row) for row, v in enumerate(values)])
    with open(entry["csv"], "w", encoding="utf-8", newline="") as f:
        if names:
            f.write(",".join(_quote(n) for n in names))
            f.write("\n")
            for record in zip(*texts):
                f.write(",".join(record))
                f.write("\n")
    schema = {
        "columns": [{"name": n, "type": k} for n, k in zip(names, kinds)],
        "num_rows": num_rows if names else 0,
    }
    # The schema is written last: its presence tells Assay the output is complete.
    with open(entry["schema"], "w", encoding="utf-8") as f:
        json.dump(schema, f)
