"""Money: a balance behind a PIN (:mod:`.pins`, :mod:`.accounts`), read from a provider (:mod:`.providers`) under a
deadline, with an SMS fallback job (:mod:`.jobs`); the cost comparison lives in :mod:`handlers.corridors`."""
