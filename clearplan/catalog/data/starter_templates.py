"""The starter pack templates and education items, written for patients in plain Australian English.

Option lines name ADA Australian Schedule item numbers from starter_au.csv; a line whose code is
not in the practice's catalogue is left out when the templates are installed.
"""

from __future__ import annotations

from typing import Any

from clearplan.catalog.models import (
    DEFAULT_CONSENT_STATEMENTS,
    DEFAULT_EMAIL_MESSAGE,
    DEFAULT_EMAIL_SUBJECT,
    DEFAULT_SMS_MESSAGE,
)

ORAL_HEALTH = "oral_health"
ELECTIVE = "elective"
BOTH = "both"

OPTIONS_INTRO = (
    "Below are the options we talked about, with what each involves. {dentist_name} has marked the one "
    "we recommend for you, but the choice is yours, and there is no rush."
)
COSTS_INTRO = (
    "The costs shown are our fees for each option. If you have private health insurance, your fund may "
    "pay part of them. We are happy to send your fund the item numbers so you know your share before you decide."
)
ELECTIVE_COSTS_INTRO = (
    "The costs shown are our fees for each option. Cosmetic treatment is usually not covered by health funds; "
    "ask us about spreading the cost if that would help."
)
SCRIPT_ORAL_HEALTH = (
    "I've just sent you your treatment pack. It includes your images, the options discussed today, and what "
    "the next steps could look like. You can review it now or at home when it suits you. If anything raises a "
    "question, call us on {clinic_phone}."
)
SCRIPT_ELECTIVE = (
    "I've just sent you your treatment pack. Once you open it, you'll see your scans and a visual breakdown of "
    "your options, with what each involves and costs. Have a look at home when it suits you, and share it with "
    "anyone you'd like to talk it over with. Call us on {clinic_phone} with any questions."
)
# Cosmetic treatment adds one thing to agree to: how it will look is a judgement, not a promise.
ELECTIVE_CONSENT = [
    *DEFAULT_CONSENT_STATEMENTS[:3],
    "I understand that the final shade and shape can differ a little from what I have pictured, and that "
    "{dentist_name} will show me what to expect before the work is finished.",
    DEFAULT_CONSENT_STATEMENTS[3],
]
GREETING = "Hi {patient_first_name},\n\n"
SIGN_OFF = (
    "\n\nIf anything is unclear, call us on {clinic_phone}. We are happy to help.\n\n"
    "{dentist_name} and the team at {clinic_name}"
)


def no_treatment(title: str = "No treatment — what to expect") -> dict[str, Any]:
    return {"title": title, "kind": "no_treatment"}


def line(code: str, quantity: int = 1, phase: int = 1) -> dict[str, Any]:
    return {"code": code, "quantity": quantity, "phase": phase}


def option(title: str, lines: list[dict[str, Any]], *, recommended: bool = False) -> dict[str, Any]:
    return {"title": title, "recommended": recommended, "kind": "treatment", "lines": lines}


def qa(question: str, answer: str) -> dict[str, str]:
    return {"question": question, "answer": answer}


STARTER_TEMPLATES: list[dict[str, Any]] = [
    {
        "key": "checkup",
        "name": "Check-up findings",
        "plan_type": ORAL_HEALTH,
        "treatments": "check-up, clean, review",
        "cover_message": GREETING
        + "Thank you for coming in for your check-up. Here is a summary of what we found today and what we "
        "suggest next, so you have it all in one place." + SIGN_OFF,
        "what_we_found": "Your check-up looked at your teeth, gums and mouth, and compared them with last time. "
        "The images in this pack show the areas {dentist_name} talked about with you.",
        "next_steps": "Book your next check-up and clean at the front desk or by calling {clinic_phone}. "
        "Most people come every six to twelve months; we will remind you when it is due.",
        "questions": [
            qa(
                "Why do I need X-rays?",
                "X-rays show decay between teeth and problems under the gum that cannot be "
                "seen by eye. We take them only when they will tell us something useful.",
            ),
            qa(
                "How often should I have a check-up?",
                "For most people every six to twelve months. If your gums need extra care we may suggest more often.",
            ),
            qa(
                "Is a scale and clean necessary if I brush well?",
                "Even careful brushing leaves some hardened tartar "
                "behind, especially between teeth. Removing it helps keep your gums healthy.",
            ),
        ],
        "aftercare": "Brush twice a day with a fluoride toothpaste, clean between your teeth once a day, and "
        "keep sugary food and drinks to mealtimes.",
        "default_options": [option("Check-up and clean", [line("012"), line("114")], recommended=True)],
    },
    {
        "key": "filling",
        "name": "Filling",
        "plan_type": ORAL_HEALTH,
        "treatments": "filling, decay, cavity, broken tooth",
        "cover_message": GREETING
        + "Today we found a tooth that needs a filling. This pack explains what we saw, what a filling involves, "
        "and what happens if it is left." + SIGN_OFF,
        "what_we_found": "There is decay (a cavity) in a tooth. Decay is softened tooth that bacteria have damaged. "
        "It does not heal by itself, and it usually grows slowly over time.",
        "next_steps": "A filling usually takes one visit of about 45 minutes. Book a time that suits you at the "
        "front desk or on {clinic_phone}.",
        "questions": [
            qa(
                "Will it hurt?",
                "We numb the tooth first, so most people feel only pressure. The numbness wears off "
                "within a few hours.",
            ),
            qa(
                "What are tooth-coloured fillings made of?",
                "A strong resin material matched to the colour of your tooth and bonded to it.",
            ),
            qa(
                "How long does a filling last?",
                "Many last ten years or more. Brushing, cleaning between teeth and regular check-ups help them last.",
            ),
            qa(
                "Can I wait?",
                "Small decay can sometimes be watched, but decay that has reached this stage tends to "
                "grow. A bigger cavity can need a larger filling, a crown or root canal treatment later.",
            ),
        ],
        "aftercare": "Wait until the numbness has worn off before eating hot food, so you do not bite your cheek "
        "or burn yourself. Some sensitivity to cold for a week or two is normal; if it lasts longer or the bite "
        "feels high, call us.",
        "default_options": [
            option("Option A: tooth-coloured filling", [line("532")], recommended=True),
            no_treatment(),
        ],
    },
    {
        "key": "crown",
        "name": "Crown",
        "plan_type": ORAL_HEALTH,
        "treatments": "crown, cracked tooth, large filling",
        "cover_message": GREETING
        + "We talked today about a tooth that is weakened and at risk of breaking. This pack sets out the options, "
        "so you can think them over at home." + SIGN_OFF,
        "what_we_found": "The tooth has a large filling or a crack, and there is not much natural tooth left to "
        "hold it together. Teeth like this can split when you bite, sometimes in a way that cannot be repaired.",
        "next_steps": "A crown usually takes two visits about two weeks apart: one to prepare the tooth and fit "
        "a temporary crown, and one to fit the permanent crown.",
        "questions": [
            qa(
                "What is a crown?",
                "A custom-made cap that covers the whole tooth above the gum, protecting it like "
                "a helmet. It is shaped and coloured to match your other teeth.",
            ),
            qa(
                "Does getting a crown hurt?",
                "The tooth is numbed, so you feel pressure rather than pain. It may feel "
                "a little tender for a few days afterwards.",
            ),
            qa("How long does a crown last?", "With good care, often fifteen years or more."),
            qa(
                "Why not just a bigger filling?",
                "A filling fills a hole; it does not hold a weak tooth together. "
                "It can be a short-term choice, but the tooth stays at risk of cracking.",
            ),
        ],
        "aftercare": "Be gentle with the temporary crown: avoid sticky and very hard food on that side and slide "
        "floss out sideways. Once the permanent crown is fitted, clean it like your other teeth.",
        "default_options": [
            option("Option A: ceramic crown", [line("613"), line("631")], recommended=True),
            option("Option B: large filling", [line("533")]),
            no_treatment(),
        ],
    },
    {
        "key": "root_canal",
        "name": "Root canal treatment",
        "plan_type": ORAL_HEALTH,
        "treatments": "root canal, toothache, infection, abscess",
        "cover_message": GREETING
        + "Thank you for your visit today. We found an infection inside a tooth, and this pack explains the "
        "ways we can treat it and what each one means for you." + SIGN_OFF,
        "what_we_found": "The nerve inside the tooth is inflamed or infected. This can cause toothache, swelling "
        "or sensitivity, though sometimes there is no pain at all. The X-ray shows the area at the tip of the root.",
        "next_steps": "Root canal treatment usually takes two visits. Afterwards most back teeth need a crown to "
        "protect them, as a root-filled tooth is more brittle.",
        "questions": [
            qa(
                "Is root canal treatment painful?",
                "The tooth is numbed, and most people say it feels much like "
                "having a filling. It usually relieves the pain the infection was causing.",
            ),
            qa(
                "Why do I need a crown afterwards?",
                "A back tooth that has had root canal treatment is more likely to crack. A crown holds it together.",
            ),
            qa(
                "What if I have the tooth out instead?",
                "Removing the tooth ends the infection, but leaves a gap. "
                "Neighbouring teeth can drift, and replacing the tooth later usually costs more than saving it.",
            ),
            qa("How successful is it?", "Most root canal treatments work well and the tooth can last for many years."),
        ],
        "aftercare": "The tooth may be tender to bite on for a few days; pain relief you would take for a "
        "headache usually helps. Avoid chewing hard food on it until the final filling or crown is in place.",
        "default_options": [
            option(
                "Option A: root canal treatment and a crown",
                [line("415"), line("417"), line("613", phase=2)],
                recommended=True,
            ),
            option("Option B: remove the tooth", [line("311")]),
            no_treatment(),
        ],
    },
    {
        "key": "extraction",
        "name": "Tooth removal",
        "plan_type": ORAL_HEALTH,
        "treatments": "extraction, tooth removal, wisdom tooth",
        "cover_message": GREETING
        + "We talked today about removing a tooth. This pack explains why, what to expect on the day, and how to "
        "look after yourself afterwards." + SIGN_OFF,
        "what_we_found": "The tooth is too damaged, infected or badly placed to keep healthy. Leaving it can lead "
        "to pain, infection or harm to the teeth next to it.",
        "next_steps": "Removing a tooth usually takes one visit. If you would like the gap filled later, we can "
        "talk about an implant, a bridge or a denture once the area has healed.",
        "questions": [
            qa(
                "Will I be awake?",
                "Yes, for most removals. The area is numbed fully first. If you are anxious, ask us "
                "about other options.",
            ),
            qa(
                "How long does healing take?",
                "The gum usually heals in one to two weeks; the bone underneath keeps healing for a few months.",
            ),
            qa(
                "Do I need to replace the tooth?",
                "Not always. It depends where the tooth is and how the gap affects "
                "your bite and your smile. We can talk it through.",
            ),
        ],
        "aftercare": "Bite on the gauze for 30 minutes. For the first day, do not rinse, spit hard, smoke or drink "
        "through a straw, so the blood clot can settle. Eat soft food and keep to the other side. From the next "
        "day, rinse gently with warm salty water after meals. Call us on {clinic_phone} if bleeding or pain gets "
        "worse after the third day.",
        "default_options": [
            option("Option A: remove the tooth", [line("311")], recommended=True),
            no_treatment(),
        ],
    },
    {
        "key": "implant",
        "name": "Implant",
        "plan_type": BOTH,
        "treatments": "implant, missing tooth, gap",
        "cover_message": GREETING
        + "Thank you for talking with us about replacing your missing tooth. This pack sets out each way of "
        "filling the gap, with what it involves and costs, so you can decide at your own pace." + SIGN_OFF,
        "what_we_found": "There is a gap where a tooth is missing. Over time, the teeth beside a gap can tip into "
        "it and the opposite tooth can grow down, which changes your bite. The bone where the tooth was also "
        "slowly shrinks.",
        "next_steps": "An implant is placed first and left to join with the bone for about three months. Then the "
        "connector and the crown are fitted. We will give you dates for each step.",
        "questions": [
            qa(
                "Does an implant hurt?",
                "It is placed with the area numbed, and most people are surprised how little "
                "they feel. Expect some tenderness for a few days, like after a tooth removal.",
            ),
            qa(
                "How long does an implant last?",
                "Implants can last for decades with good cleaning and regular "
                "check-ups. The crown on top may need replacing after many years.",
            ),
            qa(
                "Am I suitable for an implant?",
                "Most adults are. We check the bone with X-rays or a scan, and talk "
                "about your health, as smoking and some conditions slow healing.",
            ),
            qa(
                "What is the difference between an implant and a bridge?",
                "An implant replaces the root and stands "
                "on its own. A bridge is held by crowns on the teeth either side, which need to be shaped to fit it.",
            ),
        ],
        "aftercare": "After the implant is placed, eat soft food for a few days and rinse gently with warm salty "
        "water. Once the crown is fitted, clean around it carefully every day, including between the teeth.",
        "default_options": [
            option("Option A: implant", [line("684"), line("688", phase=2), line("661", phase=2)], recommended=True),
            option("Option B: bridge", [line("643", quantity=2), line("642")]),
            option("Option C: partial denture", [line("721")]),
            no_treatment(),
        ],
    },
    {
        "key": "bridge",
        "name": "Bridge",
        "plan_type": ORAL_HEALTH,
        "treatments": "bridge, missing tooth, gap",
        "cover_message": GREETING
        + "We talked today about filling the gap left by a missing tooth with a bridge. This pack explains how a "
        "bridge works and the other choices you have." + SIGN_OFF,
        "what_we_found": "A tooth is missing and the teeth either side are strong enough to support a bridge. "
        "Left open, a gap can let neighbouring teeth drift and change your bite.",
        "next_steps": "A bridge usually takes two visits about two weeks apart: one to prepare the supporting "
        "teeth and take a scan, and one to fit the bridge.",
        "questions": [
            qa(
                "What is a bridge?",
                "A false tooth joined to crowns on the teeth either side of the gap. It is "
                "fixed in place and does not come out.",
            ),
            qa(
                "How do I clean under a bridge?",
                "With a floss threader or small brushes that fit under the false tooth. We will show you how.",
            ),
            qa("How long does a bridge last?", "Often ten to fifteen years or more with good care."),
        ],
        "aftercare": "The supporting teeth may be sensitive to cold for a little while. Clean under the bridge "
        "every day, and keep your regular check-ups so we can look after the supporting teeth.",
        "default_options": [
            option("Option A: bridge", [line("643", quantity=2), line("642")], recommended=True),
            option("Option B: implant", [line("684"), line("688", phase=2), line("661", phase=2)]),
            no_treatment(),
        ],
    },
    {
        "key": "dentures",
        "name": "Dentures",
        "plan_type": ORAL_HEALTH,
        "treatments": "denture, missing teeth, plate",
        "cover_message": GREETING
        + "Thank you for talking with us about replacing missing teeth. This pack explains the denture options "
        "we discussed and what to expect while you get used to them." + SIGN_OFF,
        "what_we_found": "Several teeth are missing, which can make chewing and speaking harder and change how "
        "your face is supported. Dentures can replace them.",
        "next_steps": "Dentures take several short visits over a few weeks: scans or impressions, a try-in to "
        "check the look and bite, then fitting, with follow-up visits to adjust them.",
        "questions": [
            qa(
                "How long does it take to get used to dentures?",
                "Most people settle in within a few weeks. Speaking "
                "and eating feel strange at first and get easier each day.",
            ),
            qa(
                "Will they look natural?",
                "We choose the shape and colour of the teeth with you at the try-in, before the dentures are finished.",
            ),
            qa("Do I wear them at night?", "Usually not. Taking them out at night gives your gums a rest."),
            qa("What if they rub?", "Sore spots are common early on. Call us and we will adjust them; it is quick."),
        ],
        "aftercare": "Take your dentures out to clean them every day with a soft brush and soap or denture "
        "cleaner, not toothpaste. Keep them in water when they are out, and brush your gums and any remaining teeth.",
        "default_options": [
            option("Option A: full dentures, upper and lower", [line("719")], recommended=True),
            option("Option B: partial denture, upper", [line("721")]),
        ],
    },
    {
        "key": "periodontal",
        "name": "Gum treatment",
        "plan_type": ORAL_HEALTH,
        "treatments": "gum disease, periodontal, deep clean, bleeding gums",
        "cover_message": GREETING
        + "We found signs of gum disease today. The good news is that it can usually be brought under control. "
        "This pack explains what we found and the treatment we suggest." + SIGN_OFF,
        "what_we_found": "Some of your gums have deeper pockets than healthy gums and bleed when touched. This is "
        "gum disease (periodontitis): bacteria below the gum line slowly damage the bone that holds the teeth. "
        "It is often painless, which is why it is easy to miss.",
        "next_steps": "Gum treatment is usually done over two visits, one for each side of the mouth, with a "
        "review about three months later to measure how the gums have healed.",
        "questions": [
            qa(
                "Is gum disease serious?",
                "Left untreated it can loosen teeth and lead to losing them. Treated early, "
                "it can usually be kept stable for life.",
            ),
            qa(
                "Does a deep clean hurt?",
                "The area is numbed, so it should be comfortable. Gums can feel tender for a day or two afterwards.",
            ),
            qa(
                "Will it come back?",
                "Gum disease is kept under control rather than cured. Good cleaning at home and "
                "regular maintenance visits keep it stable.",
            ),
        ],
        "aftercare": "Your gums may bleed a little and feel tender for a few days, and teeth may be sensitive to "
        "cold. Keep brushing gently and cleaning between your teeth every day: it is the most important part of "
        "healing.",
        "default_options": [
            option(
                "Option A: gum treatment",
                [line("221"), line("222", quantity=6), line("115", phase=2)],
                recommended=True,
            ),
            no_treatment(),
        ],
    },
    {
        "key": "whitening",
        "name": "Whitening",
        "plan_type": ELECTIVE,
        "treatments": "whitening, bleaching, stained teeth",
        "cover_message": GREETING
        + "Thank you for asking about whitening. This pack explains the two ways we can lighten your teeth, what "
        "results to expect, and the costs." + SIGN_OFF,
        "what_we_found": "Your teeth and gums are healthy enough for whitening. Whitening lightens natural teeth; "
        "it does not change the colour of fillings, crowns or veneers.",
        "next_steps": "For take-home whitening we scan your teeth to make your trays, then show you how to use "
        "them. In-chair whitening is done in one visit of about an hour.",
        "questions": [
            qa("Is whitening safe?", "Yes, when done with products supplied by a dentist and after a check-up."),
            qa(
                "Will my teeth be sensitive?",
                "Some people have short-lived sensitivity. A sensitive toothpaste "
                "helps, and you can pause the treatment.",
            ),
            qa(
                "How long does it last?",
                "Usually a few years. Tea, coffee, red wine and smoking stain teeth again; "
                "a top-up with your trays keeps the colour.",
            ),
        ],
        "aftercare": "For 48 hours after whitening, avoid strongly coloured food and drinks such as coffee, tea, "
        "red wine and curry.",
        "default_options": [
            option("Option A: take-home whitening", [line("119", quantity=2)], recommended=True),
            option("Option B: whitening in the chair", [line("118", quantity=8)]),
        ],
    },
    {
        "key": "veneers",
        "name": "Veneers",
        "plan_type": ELECTIVE,
        "treatments": "veneers, chipped teeth, smile",
        "cover_message": GREETING
        + "Thank you for talking with us about your smile. This pack shows your scans and photos and sets out the "
        "options we discussed, so you can take your time deciding." + SIGN_OFF,
        "what_we_found": "Some of your front teeth are chipped, uneven or discoloured. Veneers can change their "
        "shape and colour; whitening alone changes only the colour.",
        "next_steps": "We start with a scan and a preview of the new shape, so you can see it before any "
        "treatment. The veneers are then built up in one or two visits.",
        "questions": [
            qa(
                "Will my teeth need to be shaved down?",
                "Tooth-coloured veneers made in the chair need little or no shaping of your own teeth.",
            ),
            qa("How long do veneers last?", "Often five to ten years, and they can be repaired or polished."),
            qa(
                "Can I whiten my teeth first?",
                "Yes, and it is often a good idea: the veneers are then matched to your lighter colour.",
            ),
        ],
        "aftercare": "Treat veneers like your own teeth: brush, clean between them, and avoid biting hard things "
        "such as ice or pen lids. A night guard protects them if you grind your teeth.",
        "default_options": [
            option("Option A: veneers on the four front teeth", [line("526", quantity=4)], recommended=True),
            option("Option B: whitening only", [line("119", quantity=2)]),
        ],
    },
    {
        "key": "clear_aligners",
        "name": "Clear aligners",
        "plan_type": ELECTIVE,
        "treatments": "clear aligners, straightening, crooked teeth",
        "cover_message": GREETING
        + "Thank you for coming in to talk about straightening your teeth. This pack has your scans, the options "
        "we discussed, how long treatment takes and what it costs." + SIGN_OFF,
        "what_we_found": "Some of your teeth are crowded or out of line. Straightening them can make them easier to "
        "clean and can change how your smile looks.",
        "next_steps": "We take a detailed scan and plan each step of the movement, which you can see before you "
        "decide. Treatment then takes around 12 to 18 months, with a check every six to eight weeks.",
        "questions": [
            qa("Do aligners hurt?", "Each new set feels tight for a day or two. Most people find them comfortable."),
            qa(
                "How many hours a day do I wear them?",
                "About 22 hours. Take them out only to eat, drink anything but water, and clean your teeth.",
            ),
            qa(
                "Will people notice them?",
                "They are clear and hard to see. Some small tooth-coloured bumps may be "
                "added to help the aligners grip.",
            ),
            qa(
                "What happens after treatment?",
                "You wear retainers, mostly at night, to keep your teeth where they are now.",
            ),
        ],
        "aftercare": "Brush your teeth before putting your aligners back in, clean the aligners with cool water, "
        "and keep them in their case when they are out.",
        "default_options": [
            option(
                "Option A: clear aligners, upper and lower",
                [line("829", quantity=2), line("871", quantity=6)],
                recommended=True,
            ),
            option("Option B: clear aligners, upper only", [line("829"), line("871", quantity=4)]),
        ],
    },
    {
        "key": "childrens_orthodontics",
        "name": "Children's orthodontics",
        "plan_type": BOTH,
        "treatments": "children, orthodontics, growth, bite",
        "cover_message": GREETING
        + "Thank you for bringing your child in. This pack explains what we saw in the way their teeth and jaws are "
        "growing, and the choices for helping them." + SIGN_OFF,
        "what_we_found": "Your child's teeth or jaws are not lining up as they grow. Treating some of these "
        "problems while a child is still growing can make later treatment shorter or unnecessary.",
        "next_steps": "If you would like to go ahead, we take scans and photos to make the appliance and see your "
        "child every six to eight weeks to adjust it.",
        "questions": [
            qa(
                "Why treat now and not later?",
                "Some problems with how the jaws grow are easier to guide while a child is still growing.",
            ),
            qa(
                "Will my child need braces later as well?",
                "Sometimes. Early treatment often makes later treatment simpler, but it does not always replace it.",
            ),
            qa("Is it uncomfortable?", "New appliances feel strange for a few days; children usually adapt quickly."),
        ],
        "aftercare": "Help your child clean their teeth and the appliance every day, and keep sticky and hard "
        "food to a minimum while they wear it.",
        "default_options": [
            option("Option A: growth-guiding appliance", [line("823"), line("871", quantity=4)], recommended=True),
            option("Option B: check again in six months", [line("013")]),
        ],
    },
]

# Education items for the starter procedures, by item number.
STARTER_EDUCATION: list[dict[str, str]] = [
    {
        "code": "114",
        "title": "What is a scale and clean?",
        "body": "We remove hardened tartar from your teeth, "
        "above and just below the gum line. Tartar cannot be brushed off, and it irritates the gums.",
    },
    {
        "code": "532",
        "title": "Tooth-coloured fillings",
        "body": "The decay is removed and the tooth is rebuilt "
        "with a strong, tooth-coloured material that bonds to it. It is usually done in one visit.",
    },
    {
        "code": "613",
        "title": "What is a crown?",
        "body": "A crown is a custom-made cap that covers the whole "
        "tooth above the gum. It protects a weakened tooth from breaking and restores its shape.",
    },
    {
        "code": "415",
        "title": "Root canal treatment",
        "body": "The infected nerve is removed from inside the tooth, "
        "the canals are cleaned and shaped, and then sealed. The tooth stays in your mouth and keeps working.",
    },
    {
        "code": "417",
        "title": "Sealing the root canals",
        "body": "Once the canals are clean, they are filled with a "
        "rubber-like material so bacteria cannot get back in.",
    },
    {
        "code": "311",
        "title": "Having a tooth removed",
        "body": "The area is numbed, then the tooth is gently "
        "loosened and removed. Most people feel pressure but no pain.",
    },
    {
        "code": "684",
        "title": "What is a dental implant?",
        "body": "A small titanium post placed in the jaw where a "
        "tooth is missing. The bone grows around it over a few months, and it then holds a new crown.",
    },
    {
        "code": "661",
        "title": "The crown on your implant",
        "body": "Once the implant has healed, a crown is made to "
        "match your other teeth and fixed to it. It looks and works like a natural tooth.",
    },
    {
        "code": "643",
        "title": "How a bridge works",
        "body": "Crowns on the teeth either side of a gap hold a false "
        "tooth between them. The bridge is fixed in place and does not come out.",
    },
    {
        "code": "719",
        "title": "Full dentures",
        "body": "Removable sets of teeth for the upper and lower jaws, made to "
        "fit your gums and to bite well together. You take them out to clean them.",
    },
    {
        "code": "721",
        "title": "Partial dentures",
        "body": "A removable plate with replacement teeth that fills gaps and clips to your own teeth.",
    },
    {
        "code": "222",
        "title": "Deep cleaning below the gum",
        "body": "With the area numbed, we clean the root surfaces "
        "below the gum line, so inflamed gums can heal and tighten around the teeth.",
    },
    {
        "code": "119",
        "title": "Take-home whitening",
        "body": "Thin trays made to fit your teeth hold a whitening gel. "
        "You wear them for a short time each day for about two weeks.",
    },
    {
        "code": "526",
        "title": "Tooth-coloured veneers",
        "body": "A thin layer of tooth-coloured material is shaped "
        "over the front of a tooth to change its shape or colour, usually with little or no drilling.",
    },
    {
        "code": "829",
        "title": "Clear aligners",
        "body": "A series of clear, removable trays, each moving your teeth a "
        "little. You change to the next set every week or two.",
    },
    {
        "code": "823",
        "title": "Growth-guiding appliances",
        "body": "An appliance a growing child wears to guide how "
        "the jaws develop and meet, often making later treatment simpler.",
    },
]

for _template in STARTER_TEMPLATES:
    _elective = _template["plan_type"] == ELECTIVE
    _template.setdefault("your_options_intro", OPTIONS_INTRO)
    _template.setdefault("costs_intro", ELECTIVE_COSTS_INTRO if _elective else COSTS_INTRO)
    _template.setdefault("sending_script", SCRIPT_ELECTIVE if _elective else SCRIPT_ORAL_HEALTH)
    _template.setdefault("sms_message", DEFAULT_SMS_MESSAGE)
    _template.setdefault("email_subject", DEFAULT_EMAIL_SUBJECT)
    _template.setdefault("email_message", DEFAULT_EMAIL_MESSAGE)
    _template.setdefault("consent_statements", list(ELECTIVE_CONSENT if _elective else DEFAULT_CONSENT_STATEMENTS))
