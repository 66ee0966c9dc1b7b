"""The floor every other package stands on: phone numbers (:mod:`.phones`), country and language codes
(:mod:`.codes`) and the keys derived from the operator's secret (:mod:`.keyring`).

It imports no package of this project, so ``gateway``, ``handlers``, ``outbox``, ``sessions`` and ``menus`` may all
use it without an import circle, and there is one answer in the tree to "which country is this number", "is this
a country code" and "what does this number look like at rest".
"""
