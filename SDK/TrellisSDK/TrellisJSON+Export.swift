// JSON and the ABI string helpers come from TrellisJSON (in this package),
// which the host uses too: one reader, one writer, one number rule.
@_exported import TrellisJSON
