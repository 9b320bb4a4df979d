"""motcua: a chatbot for Vietnam's one-stop public-service desks."""
