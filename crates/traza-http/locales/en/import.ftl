# import: an import's result, and what an imported batch's page says about where it came from.

import-created-batches = Batches created
import-created-shown = The first ones are shown, in the file's order:
imported-heading = Imported
imported-intro = This batch was not made in Traza: it came from the laboratory's historical records when a CSV file was imported. Here are its origin and the values its row brought.
imported-import = Import
imported-record-unavailable = the import's record could not be read
imported-source-api = through the web or the API
imported-source-cli = through the command line
imported-sha256 = The file's SHA-256
imported-encoding = Encoding and delimiter
imported-counts = The file's rows / created / unchanged / warnings
imported-values = Imported values
imported-now = now
imported-changed-since = Some values changed in Traza after the import (end of manufacture, release, correction): the current value is shown beside; each change is in the batch's audit trail.
imported-not-kept = Traza keeps the row's values as read (dates, decimals, status), not the text as typed, nor the file, nor each row's warnings: only their number and the file's fingerprint.
imported-qc-from-history = Imported batch: its quality control comes from the laboratory's historical record and was not recorded in Traza. Values in its row:
imported-qc-historical = historical record
imported-qc-open-hint = To certify this batch in Traza, record here the result of each required test: the historical values are not Traza QC results.

## What each import issue code means (IssueCode)
import-code-empty-file = The file is empty: it has no header
import-code-unknown-column = Unknown column in the header
import-code-duplicate-column = Column repeated in the header
import-code-missing-column = A required column is missing from the header
import-code-malformed-csv = The file cannot be read as CSV (an unclosed quote)
import-code-read-failed = The file could not be read; what follows was not read
import-code-invalid-encoding = Characters not valid in the file's encoding
import-code-wrong-field-count = The row has more or fewer fields than the header
import-code-missing-value = A required value is missing
import-code-invalid-value = Value not valid, out of range or contradicting another of the row
import-code-chain-of-identity = Chain of identity broken: an autologous batch's patient must be its donor
import-code-unknown-product = Product unknown in the network
import-code-unknown-lab = Laboratory unknown in the network
import-code-origin-mismatch = The origin is not the product's
import-code-route-not-offered = The product is not offered by that access route
import-code-duplicate-in-file = Batch number repeated in the file
import-code-conflicts-with-stored = A batch with that number is stored with other values
import-code-out-of-scope = You may not import history of that laboratory
import-code-foreign-batch-number = The number has the form of another laboratory's numbers
import-code-duplicate = That batch number exists already
import-code-no-assignment = Warning: no assignment of the product to the laboratory covered the start of manufacture
import-code-trial-mismatch = Warning: the clinical trial is not that of the assignments in force on that date
