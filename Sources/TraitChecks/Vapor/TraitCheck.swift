// Stops the build of DefenderVapor, with a message that says what to change, when the package trait "Vapor" is off:
// without it SwiftPM neither resolves nor links the packages DefenderVapor is built on.
#if !Vapor
#error("DefenderVapor needs the package trait \"Vapor\": depend on Defender with .package(url: …, from: …, traits: [\"Vapor\"]) (add it to the traits you already name)")
#endif
