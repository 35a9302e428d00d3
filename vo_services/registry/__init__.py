"""The publishing registry: VOResource records of the archive's services and collections, served
over OAI-PMH 2.0 at /oai so that the IVOA registries harvest them (Registry Interfaces 1.1)."""
