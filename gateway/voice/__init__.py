"""Voice: the USSD menus spoken on an Africa's Talking call, and alerts by phone call (CONTRACT §7).

- :mod:`.service` answers ``POST /voice``: the menu engine drives the call, one spoken prompt per screen.
- :mod:`.speech` turns a screen into what is said; :mod:`.actions` writes AT's voice XML.
- :mod:`.tts` and :mod:`.audio` make, keep and serve the audio (recorded prompts first, else espeak-ng).
- :mod:`.routes` are the Flask routes; :mod:`.dial` is ``gateway dial --voice``.
"""
