"""The phone channel: Twilio voice calls into the helpline's own queue.

An adapter outside the core (the core never imports it): signed webhooks answered
with TwiML, a carrier port (Twilio's REST API, or a local fake) through which the
core acts on live calls, and a caller simulator. It plugs itself in through the
``helpline.channels`` entry point (see ``plugin``).
"""
