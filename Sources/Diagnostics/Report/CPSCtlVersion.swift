import SmartCardCore

/// cpsctl's version, as printed by `diag` and put in support bundles.
package enum CPSCtlVersion {
    package static let string = Release.version
}
