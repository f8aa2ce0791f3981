"""The size limits of the source (ci/size-limits): no file over MAX_FILE_LINES
lines and no function over MAX_FUNCTION_LINES lines, so that every file
holds one concern and every function can be read in one screen.

C++ functions are found by brace matching on the text with comments, string
literals and preprocessor lines blanked: a brace at namespace or class level
whose header ends like a parameter list, `TEST(...)`, a constructor's
initialiser list or a lambda's, opens a function; it is measured from the
first line of its header to its closing brace. That is rough (a macro that
hides braces would fool it) but the code here has none, and a false
offender shows up in the output where it can be judged. Python functions
come from `ast`, decorators excluded, nested functions counted in their
enclosing one too. Only source files are read: JSON, XML and other data
files are never measured.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

CPP_DIRS = ("harness", "mechanisms", "scenarios", "ci/probe")
CPP_SUFFIXES = (".cpp", ".hpp")
# Folders whose *.py files are checked, and whether to descend into subfolders.
PYTHON_DIRS = (("harness/app", True), ("analysis/ipcatlas_analysis", True), ("analysis/tests", True),
               ("ci", False), ("ci/slurm", True), ("ci/regression_job", True))

# A function header ends with its parameter list, perhaps followed by
# qualifiers, a trailing return type or a constructor's initialiser list.
_QUALIFIED_END = re.compile(r"\)\s*(?:const|noexcept|override|final|mutable|volatile|&&?|\s)*"
                            r"(?:->\s*[\w:<>,\s*&]+)?$")
_NAME = re.compile(r"(operator\s*\S+?|~?[A-Za-z_][\w:~]*)\s*\(")


def blank_cpp(text: str) -> str:
    """The text with comments, string and character literals and preprocessor
    lines replaced by spaces, newlines kept, so that braces and line numbers
    that remain are the code's own."""
    out: list[str] = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            j = i
            while j < n and (text[j] != "\n" or text[j - 1] == "\\"):
                j += 1
            out.append(_spaces(text[i:j]))
            i = j
            continue
        if c in " \t":
            out.append(c)
            i += 1
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c == 'R' and text.startswith('R"', i):
            j = _raw_string_end(text, i)
        elif c in "\"'" and not (c == "'" and i > 0 and text[i - 1].isalnum()):  # 1'000'000 is a number
            j = _literal_end(text, i, c)
        else:
            out.append(c)
            i += 1
            continue
        out.append(_spaces(text[i:j]))
        i = j
    return "".join(out)


def _spaces(chunk: str) -> str:
    return "".join("\n" if ch == "\n" else " " for ch in chunk)


def _literal_end(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _raw_string_end(text: str, i: int) -> int:
    open_paren = text.index("(", i)
    delimiter = text[i + 2:open_paren]
    end = text.find(")" + delimiter + '"', open_paren)
    return len(text) if end < 0 else end + len(delimiter) + 2


def cpp_functions(text: str) -> list[tuple[str, int, int]]:
    """(name, first line, length in lines) of every function in C++ source."""
    code = blank_cpp(text)
    functions = []
    header_start = 0
    i = 0
    while i < len(code):
        c = code[i]
        if c in ";}":
            header_start = i + 1
        elif c == "{":
            header = code[header_start:i]
            close = _matching_brace(code, i)
            if _is_function_header(header):
                first = header_start + len(header) - len(header.lstrip())
                first_line = code.count("\n", 0, first) + 1
                last_line = code.count("\n", 0, close) + 1
                functions.append((_function_name(header), first_line, last_line - first_line + 1))
                i = close
                header_start = close + 1
            else:
                header_start = i + 1  # namespace, class, enum or initialiser: look inside
        i += 1
    return functions


def _matching_brace(code: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def _is_function_header(header: str) -> bool:
    h = " ".join(header.split())
    if not h or h.endswith("=") or re.match(r"^(?:namespace|class|struct|union|enum)\b", h):
        return False
    if _QUALIFIED_END.search(h):
        return True
    # A constructor's initialiser list ending in a braced member: "Foo() : a_{1}".
    return bool(re.search(r"\)\s*:\s*[\w:]+\s*[({]", h))


def _function_name(header: str) -> str:
    h = " ".join(header.split())
    h = re.sub(r"^template\s*<[^{;]*?>\s*", "", h)
    test = re.match(r"^(TEST\w*)\s*(\([^)]*\))", h)
    if test:
        return test.group(1) + test.group(2).replace(" ", "")
    match = _NAME.search(h)
    return match.group(1) if match else h[:40]


def python_functions(text: str, path: Path) -> list[tuple[str, int, int]]:
    tree = ast.parse(text, filename=str(path))
    return [(node.name, node.lineno, (node.end_lineno or node.lineno) - node.lineno + 1)
            for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def source_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for folder in CPP_DIRS:
        files += [p for p in (root / folder).rglob("*") if p.suffix in CPP_SUFFIXES and p.is_file()]
    for folder, recursive in PYTHON_DIRS:
        files += [p for p in ((root / folder).rglob if recursive else (root / folder).glob)("*.py") if p.is_file()]
    return sorted(set(files))


def offences(root: Path, path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(root)
    found = []
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if lines > MAX_FILE_LINES:
        found.append(f"{name}: {lines} lines (limit {MAX_FILE_LINES})")
    functions = python_functions(text, path) if path.suffix == ".py" else cpp_functions(text)
    for function, line, length in functions:
        if length > MAX_FUNCTION_LINES:
            found.append(f"{name}:{line}: function {function}: {length} lines (limit {MAX_FUNCTION_LINES})")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
    found = [o for path in source_files(root) for o in offences(root, path)]
    for line in found:
        print(line)
    if found:
        print(f"size-limits: {len(found)} over the limits (files {MAX_FILE_LINES} lines, functions "
              f"{MAX_FUNCTION_LINES}): split them by concern")
        return 1
    print("size-limits: every file and function within the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
