@_exported import DefenderCore
