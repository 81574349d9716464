// Stops the build of DefenderHummingbird, with a message that says what to change, when the package trait "Hummingbird" is off:
// without it SwiftPM neither resolves nor links the packages DefenderHummingbird is built on.
#if !Hummingbird
#error("DefenderHummingbird needs the package trait \"Hummingbird\": depend on Defender with .package(url: …, from: …, traits: [\"Hummingbird\"]) (add it to the traits you already name)")
#endif
