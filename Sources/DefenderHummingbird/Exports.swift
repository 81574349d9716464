@_exported import DefenderCore
@_exported import DefenderHTTP
