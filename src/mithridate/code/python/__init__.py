"""Python code through the standard library: `tokenize` (edits by token position, so comments and layout
survive), `ast` and `symtable` (scopes)."""
