# pdf: the batch record as a PDF (GET /api/v1/batches/{number}/record.pdf and /lotes/{number}/registro.pdf),
# for inspectors and the archive. The document's other texts are the pages'.

pdf-title = Batch record
pdf-download = Batch record (PDF)
pdf-page = Page { $page } of { $pages }
pdf-generated = Document generated on { $madrid } ({ $utc }) by { $who }, from version { $version } of the record.
pdf-not-a-copy = A copy of Traza's electronic record at the time it was generated; the electronic record is the original.

pdf-section-product = Product
pdf-section-batch = Batch
pdf-section-provenance = Provenance of the record
pdf-section-steps = Manufacturing steps and events
pdf-section-qc = Quality control against the specification
pdf-section-deviations = Deviations
pdf-section-holds = Holds
pdf-section-signatures = Electronic signatures
pdf-section-administrations = Administrations
pdf-section-audit = The batch's audit trail

pdf-code = Code
pdf-name = Name
pdf-atmp-class = Advanced therapy class
pdf-specification-version = Specification version
pdf-batch-number = Batch number
pdf-trial-id = Clinical trial
pdf-cell-count = Cell count
pdf-viability = Viability
pdf-volume-ml = Volume (ml)
pdf-release = Release
pdf-on-hold = on hold
pdf-lab-unknown = (laboratory details not available)
pdf-product-unknown = (product details not available)

pdf-unguided = Unguided batch: no master batch record
pdf-unguided-hint = The steps of this batch were recorded as manufacturing events, without an approved master batch record to execute them against.
pdf-made-in-traza = Batch created in Traza by { $who } on { $when }.
pdf-imported = Batch imported from history: import no. { $id }, line { $line } of the file.
pdf-import-file = File
pdf-import-sha256 = SHA-256 of the file
pdf-import-by = Imported by
pdf-import-at = Imported on
pdf-import-history-note = Its values are those of the imported historical record; the steps, results and signatures below are those recorded in Traza since.

pdf-step-heading = { $n }. { $step }
pdf-performed = Performed
pdf-recorded = Recorded by { $who } on { $when }
pdf-note = Note

pdf-col-number = No.
pdf-col-test = Test
pdf-col-specification = Specification
pdf-col-result = Result
pdf-col-outcome = Outcome
pdf-col-state = State
pdf-col-remarks = Remarks
pdf-col-when = When (Madrid)
pdf-col-who = Who
pdf-col-what = What
pdf-col-reason = Reason
pdf-col-patient = Patient
pdf-col-date = Date
pdf-col-hospital = Hospital
pdf-col-recorded-by = Recorded by
pdf-qc-current = current
pdf-qc-superseded-by = SUPERSEDED by no. { $id }
pdf-qc-no-result = no result
pdf-qc-retest-of = retest of no. { $id }
pdf-qc-deviation = deviation no. { $id }
pdf-qc-by = by { $who }
pdf-qc-spec-version = judged against specification v{ $version }
pdf-qc-required = * required for release
pdf-qc-no-spec = The product's specification is not available: the results are shown without their limits.

pdf-deviation-heading = Deviation no. { $id } · severity { $severity } · { $status }
pdf-deviation-open = open
pdf-deviation-closed = closed
pdf-opened = Opened by { $who } on { $when }
pdf-closed = Closed by { $who } on { $when }
pdf-resolution = Resolution

pdf-hold-heading = Hold no. { $id } · { $status }
pdf-hold-active = active
pdf-hold-lifted = lifted
pdf-hold-placed = Placed by { $who } on { $when }
pdf-hold-reaction = By the look-back of adverse reaction no. { $id }
pdf-hold-lift = Lifted by { $who } on { $when }: { $reason }

pdf-meaning = Meaning
pdf-signed-at = Signed on
pdf-reason = Reason
pdf-record-hash = Hash of the record as signed (SHA-256)

pdf-given-before-hold = given before the hold
pdf-reaction = adverse reaction no. { $id } ({ $severity }, { $status })
pdf-reaction-open = open
pdf-reaction-closed = closed
pdf-section-guided = Execution against the master record
pdf-guided-by = Master batch record, version { $version }, approved by { $approver }.
pdf-step-not-recorded = Step not recorded.
pdf-performed-by = Performed by
pdf-room = Room
pdf-equipment = Equipment
pdf-lot = Material lot
pdf-corrects = Corrects entry #{ $id }: { $reason }
pdf-verified-by = Verified by
pdf-not-verified = Not verified.
pdf-no-verification-needed = Needs no verification.
pdf-section-exceptions = Batch-record exceptions
pdf-no-exceptions = None.
pdf-resolved-by = Resolved by
pdf-exception-open = Open: not resolved.
pdf-guided = Batch guided by the master batch record, version { $version }: its execution is in the section "Execution against the master record".
