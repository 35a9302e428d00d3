"""The archive's sky coverage as IVOA MOCs: computed from the public rows, stored, kept fresh.

:mod:`.moc` is the MOC value and its serialisations, :mod:`.refresh` computes and stores the MOCs
(pgsphere ``smoc`` through ``ivoa.obscore`` as an anonymous caller) and decides when to compute
them again, :mod:`.skymap` draws the all-sky picture. No web here: the views are in
``vo_services/coverage/``.
"""
