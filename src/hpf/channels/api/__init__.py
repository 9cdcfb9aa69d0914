"""The JSON API used by the web hall, the mobile app and the kiosk."""
