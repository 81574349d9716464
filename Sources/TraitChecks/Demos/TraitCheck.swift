// Stops the build of the demos, with a message that says what to change, when the package trait "Demos" is off:
// without it SwiftPM neither resolves nor links SQLite, PostgreSQL, Prometheus and the command-line parser.
#if !Demos
#error("The demos need the package trait \"Demos\" (a default trait): build without --disable-default-traits, or add --traits Demos")
#endif
