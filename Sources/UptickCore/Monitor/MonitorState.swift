/// The part of a monitor that its check results change. Pure: ``applying(_:at:policy:)`` is the status
/// logic, and docs/alerting.md describes it in words.
public struct MonitorState: Sendable, Hashable, Codable {
    /// The confirmed status.
    public var status: MonitorStatus
    /// Down verdicts in a row.
    public var consecutiveFailures: Int64
    /// Up or degraded verdicts in a row.
    public var consecutiveSuccesses: Int64
    /// When the confirmed status last changed.
    public var statusChangedAt: EpochMilliseconds?
    /// The last verdicts, oldest first, at most ``AlertPolicy/maxThreshold``: `+` up, `~` degraded, `-` down.
    public var recentVerdicts: String
    /// The status receivers were last told about; `nil` before the first announcement.
    public var notifiedStatus: MonitorStatus?
    /// When the last notification was decided (reminders count from it).
    public var notifiedAt: EpochMilliseconds?
    /// The open incident, by its opening time.
    public var incidentOpenedAt: EpochMilliseconds?
    /// The incident receivers were told about with a `down`, until its recovery is announced.
    public var announcedIncidentAt: EpochMilliseconds?
    /// Set while the monitor is flapping: alerts are held.
    public var flappingSince: EpochMilliseconds?
    /// Times of the confirmed status changes inside the flap window, oldest first.
    public var statusChanges: [EpochMilliseconds]

    /// A state as stored in `monitors`.
    public init(
        status: MonitorStatus = .pending, consecutiveFailures: Int64 = 0, consecutiveSuccesses: Int64 = 0,
        statusChangedAt: EpochMilliseconds? = nil, recentVerdicts: String = "", notifiedStatus: MonitorStatus? = nil,
        notifiedAt: EpochMilliseconds? = nil, incidentOpenedAt: EpochMilliseconds? = nil, announcedIncidentAt: EpochMilliseconds? = nil,
        flappingSince: EpochMilliseconds? = nil, statusChanges: [EpochMilliseconds] = []
    ) {
        self.status = status
        self.consecutiveFailures = consecutiveFailures
        self.consecutiveSuccesses = consecutiveSuccesses
        self.statusChangedAt = statusChangedAt
        self.recentVerdicts = recentVerdicts
        self.notifiedStatus = notifiedStatus
        self.notifiedAt = notifiedAt
        self.incidentOpenedAt = incidentOpenedAt
        self.announcedIncidentAt = announcedIncidentAt
        self.flappingSince = flappingSince
        self.statusChanges = statusChanges
    }

    enum CodingKeys: String, CodingKey {
        case status, consecutiveFailures, consecutiveSuccesses, statusChangedAt, recentVerdicts, notifiedStatus, notifiedAt
        case incidentOpenedAt, announcedIncidentAt, flappingSince, statusChanges
    }

    /// Tolerates the fields an older spool file lacks.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            status: try container.decode(MonitorStatus.self, forKey: .status),
            consecutiveFailures: try container.decode(Int64.self, forKey: .consecutiveFailures),
            consecutiveSuccesses: try container.decode(Int64.self, forKey: .consecutiveSuccesses),
            statusChangedAt: try container.decodeIfPresent(Int64.self, forKey: .statusChangedAt),
            recentVerdicts: try container.decodeIfPresent(String.self, forKey: .recentVerdicts) ?? "",
            notifiedStatus: try container.decodeIfPresent(MonitorStatus.self, forKey: .notifiedStatus),
            notifiedAt: try container.decodeIfPresent(Int64.self, forKey: .notifiedAt),
            incidentOpenedAt: try container.decodeIfPresent(Int64.self, forKey: .incidentOpenedAt),
            announcedIncidentAt: try container.decodeIfPresent(Int64.self, forKey: .announcedIncidentAt),
            flappingSince: try container.decodeIfPresent(Int64.self, forKey: .flappingSince),
            statusChanges: try container.decodeIfPresent([Int64].self, forKey: .statusChanges) ?? []
        )
    }

    /// What one check did to a monitor.
    package struct Decision: Sendable, Hashable {
        package var state: MonitorState
        /// Set when the confirmed status changed.
        package var transition: StatusTransition?
        package var incident: IncidentChange?
        /// What to announce, in order.
        package var notices: [Notice]
    }

    /// The state after `result`, which started at `time`, under `policy`.
    ///
    /// 1. The verdict joins the history. The status gets worse when the last `failureThreshold` verdicts
    ///    are all at least that bad, better when the last `recoveryThreshold` are all at least that good
    ///    (order: up, degraded, down). A new monitor's first `up` confirms at once.
    /// 2. An incident opens when the status becomes down and resolves when it stops being down.
    /// 3. More than `flapThreshold` changes inside the flap window starts flapping (one `flapping`
    ///    notice); it ends when a whole window passes without a change.
    /// 4. Unless held (maintenance, flapping), what receivers were last told converges to the confirmed
    ///    status: a notice goes out whenever they differ. A new monitor's first `up` is never announced,
    ///    and with `notifyDegraded` off degraded counts as up. So after maintenance or flapping, the
    ///    current status is announced only if it differs from what was last announced.
    /// 5. While down and announced, a reminder follows every `reminderMilliseconds` without a notice.
    package func applying(_ result: CheckResult, at time: EpochMilliseconds, policy: AlertPolicy = AlertPolicy()) -> Decision {
        let verdict = result.status
        var next = self
        if verdict == .down {
            next.consecutiveFailures += 1
            next.consecutiveSuccesses = 0
        } else {
            next.consecutiveSuccesses += 1
            next.consecutiveFailures = 0
        }
        next.recentVerdicts = String((recentVerdicts + Self.symbol(verdict)).suffix(AlertPolicy.maxThreshold))

        // 1. Confirmation.
        var transition: StatusTransition?
        let confirmed = next.confirmedStatus(policy: policy)
        if confirmed != status {
            next.status = confirmed
            next.statusChangedAt = time
            if status != .pending { next.statusChanges.append(time) }  // coming into service is not a change
            transition = StatusTransition(from: status, to: confirmed, at: time)
        }
        // Only the newest threshold + 1 matter: enough to tell "more than the threshold" and "none".
        next.statusChanges.removeAll { $0 <= time - policy.flapWindowMilliseconds }
        next.statusChanges = Array(next.statusChanges.suffix(policy.flapThreshold + 1))

        // 2. Incidents follow the confirmed status, held or not: they are the record.
        var incident: IncidentChange?
        if next.status == .down, next.incidentOpenedAt == nil {
            next.incidentOpenedAt = time
            incident = .opened(at: time, errorClass: result.errorClass, message: result.message)
        } else if next.status != .down, let opened = next.incidentOpenedAt {
            next.incidentOpenedAt = nil
            incident = .resolved(openedAt: opened, at: time)
        }

        var notices: [Notice] = []
        let inMaintenance = policy.inMaintenance(at: time)

        // 3. Flapping.
        var settled = false
        if policy.flapThreshold > 0 {
            if next.flappingSince == nil, next.statusChanges.count > policy.flapThreshold {
                next.flappingSince = time
                if !inMaintenance {
                    notices.append(Notice(kind: .flapping, previous: next.notifiedStatus, note:
                        "\(next.statusChanges.count) status changes within \(policy.flapWindowMilliseconds / 60_000) min; alerts are held until it settles"))
                }
            } else if next.flappingSince != nil, next.statusChanges.isEmpty {
                next.flappingSince = nil
                settled = true
            }
        } else {
            next.flappingSince = nil
        }

        // 4. Announcements converge on the confirmed status.
        let held = inMaintenance || next.flappingSince != nil
        if !held, let announced = Self.announced(next.status, policy: policy), announced != next.notifiedStatus {
            if next.notifiedStatus == nil && announced == .up {
                next.notifiedStatus = .up  // a new monitor coming up is not news
            } else {
                let kind: AlertKind = switch announced {
                case .down: .down
                case .degraded: .degraded
                case .up, .pending: .up
                }
                let incidentAt = kind == .down ? next.incidentOpenedAt : next.announcedIncidentAt
                var note: String?
                if transition == nil { note = settled ? "flapping settled" : "changed while alerts were held" }
                notices.append(Notice(kind: kind, previous: next.notifiedStatus, incidentOpenedAt: incidentAt, note: note))
                next.notifiedStatus = announced
                next.notifiedAt = time
                next.announcedIncidentAt = kind == .down ? next.incidentOpenedAt : nil
            }
        } else if !held, let every = policy.reminderMilliseconds, next.status == .down, next.notifiedStatus == .down,
                  let last = next.notifiedAt, time - last >= every {
            // 5. Reminders.
            notices.append(Notice(kind: .reminder, previous: .down, incidentOpenedAt: next.incidentOpenedAt))
            next.notifiedAt = time
        }
        if notices.contains(where: { $0.kind == .flapping }) { next.notifiedAt = time }
        return Decision(state: next, transition: transition, incident: incident, notices: notices)
    }

    /// The status the verdict history confirms, starting from the current one.
    func confirmedStatus(policy: AlertPolicy) -> MonitorStatus {
        let ranks = recentVerdicts.map(Self.rank(of:))
        guard let latest = ranks.last else { return status }
        if status == .pending && latest == 0 { return .up }
        let current = status == .pending ? 0 : Self.rank(status)
        if latest > current {
            let window = ranks.suffix(policy.failureThreshold)
            guard window.count == policy.failureThreshold, let floor = window.min(), floor > current else { return status }
            return Self.statuses[floor]
        }
        if latest < current {
            let window = ranks.suffix(policy.recoveryThreshold)
            guard window.count == policy.recoveryThreshold, let ceiling = window.max(), ceiling < current else { return status }
            return Self.statuses[ceiling]
        }
        return status
    }

    /// What a status is announced as: `nil` for pending, and degraded as up when degraded is not announced.
    static func announced(_ status: MonitorStatus, policy: AlertPolicy) -> MonitorStatus? {
        switch status {
        case .pending: nil
        case .degraded: policy.notifyDegraded ? .degraded : .up
        case .up, .down: status
        }
    }

    static let statuses: [MonitorStatus] = [.up, .degraded, .down]

    static func rank(_ status: MonitorStatus) -> Int {
        switch status {
        case .pending, .up: 0
        case .degraded: 1
        case .down: 2
        }
    }

    static func symbol(_ verdict: CheckStatus) -> String {
        switch verdict {
        case .up: "+"
        case .degraded: "~"
        case .down: "-"
        }
    }

    static func rank(of symbol: Character) -> Int {
        switch symbol {
        case "~": 1
        case "-": 2
        default: 0
        }
    }
}

/// A change of a monitor's confirmed status.
public struct StatusTransition: Sendable, Hashable, Codable {
    /// The confirmed status before.
    public var from: MonitorStatus
    /// The confirmed status after.
    public var to: MonitorStatus
    /// When the check that confirmed it started.
    public var at: EpochMilliseconds

    /// A change from `from` to `to`, confirmed by the check that started `at`.
    public init(from: MonitorStatus, to: MonitorStatus, at: EpochMilliseconds) {
        self.from = from
        self.to = to
        self.at = at
    }
}
