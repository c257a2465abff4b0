import Foundation

/// Checks a file before `dlopen` maps it: a regular file, a well-formed
/// 64-bit little-endian ELF shared object for this machine, whose program
/// and section header tables and loadable segments all lie within the file.
/// `dlopen` of a library cut short maps pages past its end, and the first
/// touch of one kills the process with SIGBUS; this check refuses it first.
enum ELFCheck {
    /// `e_machine` of this process's architecture.
    static let hostMachine: UInt16 = {
        #if arch(x86_64)
        return 62      // EM_X86_64
        #elseif arch(arm64)
        return 183     // EM_AARCH64
        #else
        return 0
        #endif
    }()

    static func problem(at path: String) -> (code: PluginLoadError.Code, message: String, remedy: String)? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return (.fileMissing, "no plugin library exists at this path",
                    "Build the plugin (`swift build`), or fix the path or `plugin_paths` in the deployment config")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let what = info.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file"
            return (.notSharedObject, "the path is \(what), not a shared library",
                    "Point at the `.so` that `swift build` produced for the plugin's dynamic library product")
        }
        let size = UInt64(info.st_size)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return (.openFailed, "the file cannot be read", "Check its permissions")
        }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 64)) ?? Data())
        guard header.count >= 18, header[0...3] == [0x7F, 0x45, 0x4C, 0x46] else {
            return (.notSharedObject, "the file is not a shared library (it has no ELF header)",
                    "Point at the `.so` that `swift build` produced for the plugin's dynamic library product")
        }
        let type = header[5] == 2 ? UInt16(header[16]) << 8 | UInt16(header[17]) : UInt16(header[17]) << 8 | UInt16(header[16])
        guard type == 3 else {
            return (.notSharedObject,
                    "the file is an ELF \(type == 2 ? "executable" : type == 1 ? "object file" : "file of type \(type)"), not a shared library",
                    "Build the plugin as a dynamic library product (`.library(type: .dynamic)`)")
        }
        let rebuild = "Rebuild the plugin for this machine (64-bit, little-endian, \(hostArchitecture)) as a shared library"
        guard header.count == 64, header[4] == 2, header[5] == 1 else {
            return (.notSharedObject, "the library is not a 64-bit little-endian ELF file", rebuild)
        }
        func u16(_ at: Int) -> UInt16 { UInt16(header[at]) | UInt16(header[at + 1]) << 8 }
        func u64(_ at: Int, in bytes: [UInt8]) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        let machine = u16(18)
        guard machine == hostMachine else {
            return (.notSharedObject, "the library is built for another architecture (ELF machine \(machine))", rebuild)
        }
        func truncated(_ what: String) -> String { "the library is cut short or damaged: \(what) lies past its end (\(size) bytes)" }
        let remedy = "Build or copy the library again, then `trellis registry stamp` to record its sha256"
        let programOffset = u64(32, in: header), sectionOffset = u64(40, in: header)
        let programEntry = UInt64(u16(54)), programCount = UInt64(u16(56))
        let sectionEntry = UInt64(u16(58)), sectionCount = UInt64(u16(60))
        guard programEntry >= 56 || programCount == 0, programOffset.addingReportingOverflow(programEntry * programCount).partialValue <= size else {
            return (.notSharedObject, truncated("its program header table"), remedy)
        }
        guard sectionOffset.addingReportingOverflow(sectionEntry * sectionCount).partialValue <= size else {
            return (.notSharedObject, truncated("its section header table"), remedy)
        }
        guard programCount > 0, (try? handle.seek(toOffset: programOffset)) != nil,
              let table = try? handle.read(upToCount: Int(programEntry * programCount)),
              table.count == Int(programEntry * programCount) else {
            return (.notSharedObject, truncated("its program header table"), remedy)
        }
        let entries = [UInt8](table)
        for index in 0..<Int(programCount) {
            let base = index * Int(programEntry)
            let kind = UInt32(entries[base]) | UInt32(entries[base + 1]) << 8 | UInt32(entries[base + 2]) << 16 | UInt32(entries[base + 3]) << 24
            guard kind == 1 else { continue }   // PT_LOAD
            let offset = u64(base + 8, in: entries), fileSize = u64(base + 32, in: entries)
            let (end, overflow) = offset.addingReportingOverflow(fileSize)
            if overflow || end > size {
                return (.notSharedObject, truncated("a loadable segment (bytes \(offset)–\(end))"), remedy)
            }
        }
        return nil
    }

    static var hostArchitecture: String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "this architecture"
        #endif
    }
}
