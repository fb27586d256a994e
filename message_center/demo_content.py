"""Words for the demo inbox: a home-services business (roofing, gutters, solar) and its customers."""

AGENTS = {
	"Sales": [
		("olivia.sales@example.com", "Olivia", "Bennett"),
		("marcus.sales@example.com", "Marcus", "Reed"),
		("priya.sales@example.com", "Priya", "Nair"),
	],
	"Service": [
		("dan.service@example.com", "Dan", "Kowalski"),
		("sofia.service@example.com", "Sofia", "Alvarez"),
	],
}
MANAGER = ("grace.manager@example.com", "Grace", "Holloway")

FIRST_NAMES = (
	"Emma Liam Ava Noah Mia James Harper Lucas Ella Mason Chloe Ethan Aria Logan Zoe Aiden Nora Caleb Lily Owen "
	"Hazel Wyatt Layla Isaac Riley Julian Stella Levi Aurora Jack Violet Henry Nova Leo Ivy Hudson Naomi Ezra"
).split()
LAST_NAMES = (
	"Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee "
	"Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres"
).split()
COMPANIES = ("", "", "", "Oak Street Dental", "Bayview Apartments HOA", "Greenleaf Cafe", "Summit Realty", "")
STREETS = ("Maple Ave", "Cedar St", "Lakeview Dr", "Pine Ct", "Sunset Blvd", "Harbor Rd", "Willow Ln", "Elm St")
CITIES = ("Oakland, CA", "Berkeley, CA", "San Leandro, CA", "Alameda, CA", "Hayward, CA")

# (subject, opening message, follow-ups from the customer, agent replies)
SALES_THREADS = (
	(
		"Quote for a roof replacement",
		"Hi, we're looking to replace the roof on a two-storey house, about 1,800 sq ft. Could you give us a rough quote?",
		["Also, do you offer financing?", "We'd prefer asphalt shingles, dark grey if possible."],
		["Thanks for reaching out! A rough range for that size is $14k–$19k depending on materials. Could we book a free inspection?",
			"Yes, we offer 12 and 24 month financing plans. I'll send details."],
	),
	(
		"Solar panels",
		"Do you install solar panels? Our electricity bills have doubled this year.",
		["South-facing roof, no shade. Two EVs in the household."],
		["We do! A site survey takes about an hour. Would Tuesday or Thursday morning suit you?"],
	),
	(
		"Gutter guards",
		"How much for gutter guards on a single-storey ranch house? Roughly 160 feet of gutter.",
		["Is that price including installation?"],
		["For 160 ft with installation you're looking at around $1,900. I can hold that price for 30 days."],
	),
	(
		"Skylight installation",
		"We'd like two skylights in the kitchen. Is that something you do?",
		[],
		["Absolutely — we fit fixed and venting skylights. Can you send a photo of the kitchen ceiling?"],
	),
	(
		"Commercial re-roof",
		"Our cafe has a flat roof that's 20 years old. Looking for quotes on a full replacement this spring.",
		["We can only close the cafe on Mondays."],
		["Understood — we can schedule the work across Mondays. I'll have our commercial estimator call you."],
	),
)
SERVICE_THREADS = (
	(
		"Leak after the storm",
		"Water is dripping from the ceiling in the upstairs bedroom since last night's storm. Can someone come out?",
		["It's getting worse, there's a stain spreading now.", "Please call me when you can."],
		["Sorry to hear that! We can have a technician there this afternoon between 2 and 4pm.",
			"Our tech Sam is on his way, he'll text you when he's 15 minutes out."],
	),
	(
		"Warranty question",
		"You replaced our roof in 2021. A few shingles blew off — is that covered by the warranty?",
		["I have the invoice number if you need it: INV-2021-0442."],
		["Yes, wind damage to shingles is covered for 10 years. I've opened a warranty claim for you."],
	),
	(
		"Reschedule appointment",
		"I need to move my inspection from Thursday to next week, any day works.",
		[],
		["No problem, I've moved you to next Tuesday at 10am. Reply here if that doesn't work."],
	),
	(
		"Gutter cleaning",
		"Can you clean the gutters before the rainy season? Same address as last year.",
		["Sounds good, thanks!"],
		["Sure thing — we have an opening on the 14th. Shall I book it?"],
	),
)
SMS_OPENERS = (
	"Hi is this the roofing company? Need someone to look at a leak",
	"How much for a roof inspection?",
	"Do u do gutter cleaning?",
	"Saw your truck in my neighborhood, do you give free estimates?",
	"Hey, our tech said to text this number to confirm Friday",
	"Can I get a quote for solar?",
	"Is anyone available this weekend? Emergency tarp needed",
	"What time does your crew usually arrive?",
)
SMS_FOLLOW_UPS = ("Thanks!", "Ok sounds good", "Great, see you then", "Can you call me instead?", "👍", "How long will it take?")
SMS_REPLIES = (
	"Hi {first}, thanks for texting! I can help with that. What's the address?",
	"We can come by tomorrow between 9 and 11am. Does that work?",
	"Inspections are free. I'll book you in.",
	"Confirmed for Friday, the crew arrives around 8am.",
)
NOTES = (
	"Called the customer, left a voicemail.",
	"Existing customer — roof done in 2021, check the warranty file.",
	"Asked for photos before we send someone out.",
	"Price sensitive, mentioned a competitor's quote.",
	"Prefers texts over calls.",
)
WEB_FORM_MESSAGES = (
	"Please contact me about a free roof inspection. Best time is after 5pm.",
	"Interested in solar for a small commercial building. Please send information.",
	"I'd like a quote to replace old gutters and downspouts.",
	"Looking for an annual maintenance plan for three rental properties.",
)
PHONE_MESSAGES = (
	"Called about hail damage on the garage roof; wants someone this week.",
	"Fax from property manager: request for quote, 12-unit building re-roof.",
	"Caller asked about financing options for solar.",
)

QUICK_REPLIES = (
	# (title, shortcut, medium, scope, body)
	("Thanks for reaching out", "thanks", "Any", "Global", "Hi {{ first_name }}, thanks for reaching out to {{ company }}! {{ agent_first_name }} here — how can I help?"),
	("Closing", "bye", "Any", "Global", "Thank you for contacting {{ company }}. Let us know if you need anything else!"),
	("Book an inspection", "book", "Any", "Team:Sales", "We'd love to take a look. Our inspections are free and take about an hour — what day works best for you, {{ first_name }}?"),
	("Financing", "finance", "Email", "Team:Sales", "Dear {{ full_name }},\n\nWe offer 12 and 24 month financing with no early repayment fees. I'm happy to walk you through the options.\n\nBest regards,\n{{ agent_name }}"),
	("Technician on the way", "otw", "SMS", "Team:Service", "Hi {{ first_name }}, our technician is on the way and will text when 15 minutes out."),
	("Warranty claim opened", "warranty", "Any", "Team:Service", "I've opened a warranty claim for you, {{ first_name }}. You'll hear from our service team within one business day."),
	("Send photos", "photos", "SMS", "Channel:Sales Texts", "Could you text us a couple of photos of the area? It helps us bring the right materials."),
)
