"""The web portal: the archive for people with a browser (observers, visitors).

Server-rendered pages over the same domain modules the VO services use: searches run through the
ADQL translator and the one result engine as the caller, so the database's access rule is the only
one; nothing here reads rows another way. Every asset is served locally (no CDN).
"""
