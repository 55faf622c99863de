"""Screen logic without Kivy: validation, texts in Vietnamese and English, what each screen shows."""
