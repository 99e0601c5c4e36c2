"""E-seals (电子印章): each organization's seals, their SM2 keys and the GB/T 38540 structures.

Layout: ``models.py`` (Seal, SealKey, SealEvent, SignatureRecord), ``codes.py`` (the seal code
format and the seal-type numbers), ``asn1.py`` (the DER structures), ``images.py`` (the red round
seal in SVG and PNG), ``services.py`` (every state change and the verifier), ``queries.py`` (who
may see and act on which seal), ``errors.py`` (error and verification codes), ``admin.py``.
"""
