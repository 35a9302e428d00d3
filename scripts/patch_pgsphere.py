"""Remove pgsphere 1.2.0's two obsolete ``@ (…, smoc)`` operators from its install script.

Newer PostgreSQL releases (15.20 and later) refuse them with "commutator operator @> is already
the commutator of operator <@", which makes ``CREATE EXTENSION pg_sphere`` fail; pgsphere upstream
removed them. Usage: ``python3 patch_pgsphere.py <script.sql>``.
"""
import re
import sys

OBSOLETE = re.compile(
    r"CREATE OPERATOR @ \(\s*LEFTARG\s*=\s*(?:bigint|spoint),\s*RIGHTARG\s*=\s*smoc,.*?\);\n?",
    re.DOTALL,
)

path = sys.argv[1]
with open(path) as f:
    text = f.read()
patched, count = OBSOLETE.subn("", text)
if count:
    with open(path, "w") as f:
        f.write(patched)
print(f"removed {count} obsolete operator(s) from {path}")
