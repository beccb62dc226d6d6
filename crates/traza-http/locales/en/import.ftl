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
