# equipment: a laboratory's equipment and rooms page (SPEC §8).

equipment-title = Equipment and rooms
equipment-equipment = Equipment
equipment-rooms = Rooms
equipment-id = Id
equipment-class = Class
equipment-calibration-due = Calibration valid until
equipment-calibration-due-hint = The last day the calibration covers: after it, the equipment may not be used.
equipment-none = No equipment to show.
equipment-change = Change status or calibration
equipment-save = Save
equipment-new = New equipment
equipment-id-hint = Its asset tag (BSC-02); unique in the laboratory.
equipment-class-hint = What it is, as master records ask for it (biosafety cabinet → biosafety_cabinet).
equipment-add = Add the equipment
equipment-id-taken = the laboratory has one with that id already
equipment-done-created = Equipment added:
equipment-done-changed = Equipment changed:
equipment-done-room = Room added:

# Status, in words.
equipment-status-in-service = in service
equipment-status-out-of-service = out of service

# The calibration, said in words.
equipment-calibration-past-due = calibration overdue since { $date }
equipment-calibration-due-today = the calibration is due today
equipment-calibration-due-tomorrow = the calibration is due tomorrow
equipment-calibration-due-in-days = the calibration is due in { $days } days

# Known equipment classes (others are shown as they were typed).
equipment-class-word-biosafety-cabinet = biosafety cabinet
equipment-class-word-incubator = incubator
equipment-class-word-co2-incubator = CO₂ incubator
equipment-class-word-centrifuge = centrifuge
equipment-class-word-cell-counter = cell counter
equipment-class-word-flow-cytometer = flow cytometer
equipment-class-word-freezer = freezer
equipment-class-word-refrigerator = refrigerator
equipment-class-word-microscope = microscope
equipment-class-word-bioreactor = bioreactor
equipment-class-word-balance = balance

# Rooms.
equipment-room = Room
equipment-grade = Grade
equipment-grade-of = grade { $grade }
equipment-grade-hint = EU GMP Annex 1 grades: A is the cleanest; a step that needs grade B may be done in a room of grade A or B.
equipment-no-rooms = No rooms to show.
equipment-new-room = New room
equipment-add-room = Add the room
equipment-room-taken = the laboratory has a room with that id already
