# import: el resultado de una importación y lo que la página de un lote importado dice de su origen.

import-created-batches = Lotes creados
import-created-shown = Se muestran los primeros, en el orden del fichero:
imported-heading = Importado
imported-intro = Este lote no se fabricó en Traza: llegó de los registros históricos del laboratorio al importar un fichero CSV. Estos son su origen y los valores que trajo su fila.
imported-import = Importación
imported-record-unavailable = no se pudo leer el registro de la importación
imported-source-api = desde la web o la API
imported-source-cli = desde la línea de órdenes
imported-sha256 = Huella SHA-256 del fichero
imported-encoding = Codificación y separador
imported-counts = Filas / nuevas / sin cambios / avisos del fichero
imported-values = Valores importados
imported-now = ahora
imported-changed-since = Algunos valores han cambiado en Traza después de la importación (fin de fabricación, liberación, corrección): se indica el valor actual al lado; cada cambio consta en el registro de auditoría del lote.
imported-not-kept = Traza guarda los valores de la fila ya interpretados (fechas, decimales, estado), no el texto tal como se escribió, ni el fichero, ni los avisos de cada fila: solo su número y la huella del fichero.
imported-qc-from-history = Lote importado: su control de calidad procede del registro histórico del laboratorio y no se registró en Traza. Valores de su fila:
imported-qc-historical = registro histórico
imported-qc-open-hint = Para certificar este lote en Traza hay que registrar aquí el resultado de cada ensayo obligatorio: los valores históricos no son resultados de control de Traza.
