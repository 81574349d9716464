// Stops the build of DefenderFluent, with a message that says what to change, when the package trait "Fluent" is off:
// without it SwiftPM neither resolves nor links the packages DefenderFluent is built on.
#if !Fluent
#error("DefenderFluent needs the package trait \"Fluent\": depend on Defender with .package(url: …, from: …, traits: [\"Fluent\"]) (add it to the traits you already name)")
#endif
