"""The Gemini API surfaces the fake serves, one module (or subpackage) per endpoint family."""
