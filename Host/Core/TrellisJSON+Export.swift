// JSON (`JSONValue`, `JSONReader`, `JSONWriter`) comes from the SDK
// package's TrellisJSON, the one JSON vocabulary of the host and the SDK;
// every host module that imports TrellisCore sees it.
@_exported import TrellisJSON
